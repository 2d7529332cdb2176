;; wire length in feet, piece length in inches
(defparameter *wire-feet* 4)
(defparameter *piece-inches* 6)

(defun feet->inches (ft) (* ft 12))

(defun solve ()
  (/ (feet->inches *wire-feet*) *piece-inches*))
