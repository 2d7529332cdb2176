;; pieces, rates per minute
(defun solve ()
  (let* ((pieces 360)
         (kid 4)
         (mom (/ kid 2))
         (minutes (/ pieces (+ kid mom))))
    (/ minutes 60)))
