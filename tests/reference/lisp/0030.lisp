;; age ratio parts, total age, years ahead
(defun share (part parts total)
  (* total (/ part parts)))

(defun solve ()
  (let* ((a 7) (b 11) (total 162) (years 10))
    (+ (share b (+ a b) total) years)))
