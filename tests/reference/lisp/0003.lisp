;; query: (total-meters)
;; sprints per session, sessions per week, meters per sprint
(defparameter *sprints* 3)
(defparameter *sessions* 3)
(defparameter *meters* 60)

(defun total-meters ()
  (* *sprints* *sessions* *meters*))
