;; total points and three known players
(defun solve ()
  (let* ((total 251)
         (naomi 68)
         (yuri (+ (/ naomi 2) 10))
         (brianna (+ naomi 17)))
    (- total naomi yuri brianna)))
