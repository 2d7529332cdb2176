;; budget and item prices
(defun solve ()
  (let ((budget 1500)
        (items (list 1090 157 74 102)))
    (- budget (apply #'+ items))))
