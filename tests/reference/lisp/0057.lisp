;; bridge limit, box weight, truck plus driver weight
(defun solve ()
  (let ((limit 5000) (box 15) (truck 3755))
    (values (floor (- limit truck) box))))
