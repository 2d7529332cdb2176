;; monthly needs per ape group, months per order
(defparameter *needs* '(200 400 100))
(defparameter *months* 2)

(defun solve ()
  (* *months* (reduce #'+ *needs*)))
