;; total coins and how many more gold than silver
(defn solve []
  (let [total 110
        diff 30
        silver (/ (- total diff) 2)]
    (+ silver diff)))
