;; query: (sheets-per-month)
;; pads per week, sheets per pad, weeks per month
(defparameter *pads-per-week* 2)
(defparameter *sheets-per-pad* 30)
(defparameter *weeks-per-month* 4)

(defun sheets-per-month ()
  (* *pads-per-week* *sheets-per-pad* *weeks-per-month*))
