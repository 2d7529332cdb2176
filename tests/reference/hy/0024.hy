;; sale price and discount percent
(defn solve []
  (let [paid 19.5
        discount 25]
    (/ paid (- 1 (/ discount 100)))))
