;; outbound speed, start and end hour, return speed
(defn solve []
  (let [speed-out 10
        hours (- 4 1)
        distance (* speed-out hours)
        speed-back 6]
    (/ distance speed-back)))
