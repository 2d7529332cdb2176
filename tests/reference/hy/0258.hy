;; fee per book, books, flat fee
(defn solve []
  (+ (* 0.5 8) 2.0))
