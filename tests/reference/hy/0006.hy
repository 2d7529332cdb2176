;; sheep in the smallest city and the multipliers
(defn solve []
  (setv seattle 20)
  (setv charleston (* 4 seattle))
  (setv toulouse (* 2 charleston))
  (+ seattle charleston toulouse))
