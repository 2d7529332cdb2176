;; liters per ten feet, feet per 16 seconds, total seconds
(defun solve ()
  (let* ((liters-per-10ft 2)
         (feet 20) (secs 16)
         (total-secs 64)
         (distance (* feet (/ total-secs secs))))
    (* liters-per-10ft (/ distance 10))))
