import Blytz
import Users

FunctionRuntime.main(Users.functions)
