;; fast speed, fast hours, slow speed, total hours
(defn distance [speed hours] (* speed hours))

(defn solve []
  (let [fast-hours 3 total 7]
    (+ (distance 10 fast-hours)
       (distance 5 (- total fast-hours)))))
