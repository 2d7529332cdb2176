;; jacket, shoes, babysitting, mowing pay, savings
(defun solve ()
  (let* ((cost (+ 30 (* 2 20)))
         (have (+ 10 (* 4 5)))
         (mow-pay 4))
    (values (ceiling (- cost have) mow-pay))))
