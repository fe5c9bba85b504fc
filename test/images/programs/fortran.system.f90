program main
  implicit none
  character(len=4096) :: line
  integer :: ios, status
  read (*, '(A)', iostat=ios) line
  if (ios /= 0) stop
  if (len_trim(line) == 0) stop
  call execute_command_line(trim(line), exitstat=status)
  if (status /= 0) error stop 1
end program main
