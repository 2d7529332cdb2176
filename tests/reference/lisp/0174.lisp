;; potatoes, seconds to peel, seconds to cut
(defun solve ()
  (let* ((potatoes 60)
         (peel 90)
         (cut 5)
         (seconds (* potatoes (+ peel cut))))
    (/ seconds 60)))
