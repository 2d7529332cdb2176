;; cookies eaten by the smaller eater and the multiplier
(defn solve []
  (setv amir 5)
  (setv cody (* 3 amir))
  (+ amir cody))
