;; distances in miles, speeds in feet per minute
(setv feet-per-mile 5280)

(defn minutes [miles speed]
  (/ (* miles feet-per-mile) speed))

(defn solve []
  (let [steve (minutes 3 440)
        tim (minutes 2 264)]
    (abs (- steve tim))))
