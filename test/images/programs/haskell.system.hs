import System.Exit
import System.IO
import System.Process

main :: IO ()
main = do
  eof <- isEOF
  line <- if eof then return "" else getLine
  if null line then return () else do
    code <- system line
    if code == ExitSuccess then return () else exitWith (ExitFailure 1)
