;; the other person's money; twice that plus two
(defn solve []
  (let [ethel 8]
    (+ (* 2 ethel) 2)))
