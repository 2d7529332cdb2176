;; candy counts relative to Robert
(defn solve []
  (setv john 54)
  (setv robert (/ john 2))
  (setv james (+ robert 6))
  (- john james))
