;; schools, teams per school, players per team, coaches per team
(defun people-per-team (players coaches) (+ players coaches))

(defun solve ()
  (let ((schools 4) (teams 2) (players 5) (coaches 1))
    (* schools teams (people-per-team players coaches))))
