;; total stitches, body stitches, collar fraction, rosette multiple, sleeves
(defun solve ()
  (let* ((total 1800)
         (body 900)
         (collar (/ body 10))
         (rosette (* 2 collar)))
    (/ (- total body collar rosette) 2)))
