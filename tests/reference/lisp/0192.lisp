;; planted per year, chopped per year, starting trees, years, percent dying
(defun trees-after (start planted chopped years)
  (+ start (* years (- planted chopped))))

(defun solve ()
  (let ((trees (trees-after 50 10 2 10)))
    (* trees (- 1 30/100))))
