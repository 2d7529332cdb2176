;; hourly rate, hours per day, days per week, weeks, discount percent
(defun solve ()
  (let* ((rate 250) (hours 6) (days 4) (weeks 5) (discount 10)
         (gross (* rate hours days weeks)))
    (* gross (- 1 (/ discount 100)))))
