{ A unit, not a program: fpc compiles it and links nothing. }
unit main;
interface
function Hello: string;
implementation
function Hello: string;
begin
  Hello := 'Hello, world!';
end;
end.
