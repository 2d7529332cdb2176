;; pies, pieces per pie, pieces left
(setv pies 5)
(setv pieces-per-pie 8)
(setv remaining 14)

(defn solve []
  (- (* pies pieces-per-pie) remaining))
