;; query: (final-amount)
;; allowance, extra money, growth factor
(defun final-amount ()
  (let ((allowance 20) (extra 10) (factor 3))
    (* factor (+ allowance extra))))
