;; steady runner time, legs, first runner time, improvement per leg
(defun team-time (first step legs)
  (loop for i from 0 below legs sum (- first (* i step))))

(defun solve ()
  (let ((legs 4))
    (- (team-time 60 3 legs) (team-time 55 0 legs))))
