program System_;
{$mode objfpc}{$H+}
uses Unix;
var line: string;
begin
  line := '';
  if not eof(input) then readln(line);
  if (line <> '') and (fpSystem(line) <> 0) then halt(1);
end.
