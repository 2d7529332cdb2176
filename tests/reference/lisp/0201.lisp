;; bonus, raise percent, weekly pay, weeks
(defun solve ()
  (let* ((bonus 5000)
         (raise 5)
         (weekly 2000)
         (weeks 52)
         (new-weekly (* weekly (+ 1 (/ raise 100)))))
    (+ bonus (* new-weekly weeks))))
