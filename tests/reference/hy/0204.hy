;; loose pens and bags of pens (count, per bag)
(defn solve []
  (setv loose [22 10])
  (setv bags [[6 9] [2 6]])
  (+ (sum loose)
     (sum (lfor [n per] bags (* n per)))))
