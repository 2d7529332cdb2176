;; team members, coaches, guests per member, people per pizza, price per pizza
(defun people (members coaches guests)
  (+ (* members (+ 1 guests)) coaches))

(defun solve ()
  (let ((pizzas (ceiling (people 12 3 2) 3)))
    (* pizzas 15)))
