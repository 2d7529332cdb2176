;; bees leaving first, fraction returning, multiple leaving later
(defun solve ()
  (let* ((left-first 30)
         (returned (/ left-first 2))
         (left-later (* 2 left-first)))
    (+ (- left-first returned) left-later)))
