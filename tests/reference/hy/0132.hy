;; rides per person and tickets per ride
(defn solve []
  (setv coaster-rides [2 4])
  (setv luge-rides [2 2])
  (setv tickets 6)
  (* tickets (+ (sum coaster-rides) (sum luge-rides))))
