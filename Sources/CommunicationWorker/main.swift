import Blytz
import Communication

FunctionRuntime.main(Communication.functions)
