;; first girl's money and the increments
(defun solve ()
  (let* ((carmen 100)
         (samantha (+ carmen 25))
         (daisy (+ samantha 50)))
    (+ carmen samantha daisy)))
