;; planting cost, lemons per year, price per lemon, yearly upkeep
(defparameter *plant-cost* 90)
(defparameter *lemons* 7)
(defparameter *lemon-price* 3/2)
(defparameter *upkeep* 3)

(defun yearly-net ()
  (- (* *lemons* *lemon-price*) *upkeep*))

(defun solve ()
  (loop for year from 1
        when (> (* year (yearly-net)) *plant-cost*)
          return year))
