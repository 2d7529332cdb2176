;; customers on first day, increase on second day, running total
(defn solve []
  (let [day1 100
        day2 (+ day1 50)
        total 500]
    (- total day1 day2)))
