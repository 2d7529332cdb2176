;; rate, questions and hours for each test
(defun unanswered (questions rate hours)
  (- questions (* rate hours)))

(defun solve ()
  (let ((rate 5))
    (+ (unanswered 75 rate 8)
       (unanswered 100 rate 6))))
