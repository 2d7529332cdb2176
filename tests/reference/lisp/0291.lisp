;; adults, children, packets, bars per packet, bars per adult
(defun solve ()
  (let* ((adults 4) (children 8) (packets 8) (per-packet 5) (per-adult 6)
         (bars (* packets per-packet)))
    (/ (- bars (* adults per-adult)) children)))
