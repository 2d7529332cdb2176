;; Lee's time, Gerald's gap, improvement percent
(defparameter *lee* 38)
(defparameter *gap* 2)
(defparameter *improvement* 10)

(defun solve ()
  (let ((gerald (+ *lee* *gap*)))
    (* gerald (- 1 (/ *improvement* 100)))))
