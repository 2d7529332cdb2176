;; top level area, levels; each lower level doubles
(defun level-areas (top levels)
  (loop for i from 0 below levels
        collect (* top (expt 2 i))))

(defun solve ()
  (let ((areas (level-areas 16 4)))
    (/ (reduce #'+ areas) (length areas))))
