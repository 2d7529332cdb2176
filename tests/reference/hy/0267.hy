;; first heating minutes, percent longer, minutes less for cooking
(defn solve []
  (let [first 20
        second (* first (+ 1 (/ 40 100)))
        warm (+ first second)
        cook (- warm 5)]
    (+ warm cook)))
