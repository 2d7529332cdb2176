;; sister's cookies per day, Sue's multipliers, calories per cookie
(defn solve []
  (setv sister [5 13])
  (setv factors [4 2])
  (setv sue (sum (map (fn [s f] (* s f)) sister factors)))
  (* 200 (- sue (sum sister))))
