import Blytz
import Files

FunctionRuntime.main(Files.functions)
