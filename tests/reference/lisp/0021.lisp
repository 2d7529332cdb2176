;; age gap between cousins, father's age at son's birth, younger cousin's age now
(defun solve ()
  (let* ((gap 6)
         (father-age-at-birth 23)
         (samantha 31)
         (raymond (+ samantha gap)))
    (- raymond father-age-at-birth)))
