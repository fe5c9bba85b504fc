program echo
  character(len=4096) :: line
  integer :: ios
  do
    read(*, '(a)', iostat=ios) line
    if (ios /= 0) exit
    write(*, '(a)') trim(line)
  end do
end program echo
