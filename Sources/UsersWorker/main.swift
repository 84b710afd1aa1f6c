import Blytz
import Users

await FunctionRuntime.run(Users.functions)
