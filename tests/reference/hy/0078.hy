;; package deals: (size price) pairs and flowers wanted
(defn cost-for [n size price]
  (* (/ n size) price))

(defn solve []
  (setv n 18)
  (setv costs [(cost-for n 3 2.5) (cost-for n 2 1)])
  (- (max costs) (min costs)))
