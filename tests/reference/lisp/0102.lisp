;; waters per weekday, weekdays, waters per weekend day, weekend days
(defun solve ()
  (let* ((weekday-water 4)
         (weekdays 5)
         (weekend-water (- weekday-water 1))
         (weekend-days 2))
    (+ (* weekday-water weekdays) (* weekend-water weekend-days))))
