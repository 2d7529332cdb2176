;; skip speed, run/walk ratio, total hours, fraction of time running
(defun solve ()
  (let* ((skip 3)
         (run (* 2 skip))
         (walk (/ run 4))
         (hours 6)
         (run-time (* hours 1/3))
         (walk-time (* hours 2/3)))
    (+ (* run run-time) (* walk walk-time))))
