// Pusher (Gymnasium Pusher-v5's model), written for fimkit from the documented facts: a
// seven-joint arm (shoulder pan, shoulder lift, upper-arm roll, elbow flex, forearm roll, wrist
// flex, wrist roll) built of capsules and spheres at density 300 (the head's four spheres
// included: they carry mass), with a three-capsule gripper and a `tips_arm` body between its
// fingers; a cylinder object (radius 0.05, density 0.01, v5's value) and a flat goal disc
// (density 1e-5), each on two slide joints with damping 0.5; joints with armature 0.04 and
// damping 1 (0.1 from the upper-arm roll on); seven unit-gear motors with controls in [−2, 2];
// no gravity; Euler at 10 ms with 20 solver iterations; contact margin 0.002. Only the table,
// the gripper and the object collide. Body frames follow the published model: the observation
// reads the tips, object and goal frame positions.
export const PUSHER_XML = `
<mujoco model="fimkit-pusher">
  <compiler angle="radian" inertiafromgeom="true"/>
  <option timestep="0.01" gravity="0 0 0" iterations="20" integrator="Euler"/>
  <default>
    <joint limited="true" armature="0.04" damping="1"/>
    <geom contype="0" conaffinity="0" condim="1" density="300" friction="0.8 0.1 0.1" margin="0.002"/>
  </default>
  <worldbody>
    <geom name="table" type="plane" pos="0 0.5 -0.325" size="1 1 0.1" contype="1" conaffinity="1"/>
    <body name="r_shoulder_pan_link" pos="0 -0.6 0">
      <geom name="e1" type="sphere" pos="-0.06 0.05 0.2" size="0.05"/>
      <geom name="e2" type="sphere" pos="0.06 0.05 0.2" size="0.05"/>
      <geom name="e1p" type="sphere" pos="-0.06 0.09 0.2" size="0.03"/>
      <geom name="e2p" type="sphere" pos="0.06 0.09 0.2" size="0.03"/>
      <geom name="sp" type="capsule" fromto="0 0 -0.4 0 0 0.2" size="0.1"/>
      <joint name="r_shoulder_pan_joint" type="hinge" axis="0 0 1" range="-2.2854 1.714602"/>
      <body name="r_shoulder_lift_link" pos="0.1 0 0">
        <geom name="sl" type="capsule" fromto="0 -0.1 0 0 0.1 0" size="0.1"/>
        <joint name="r_shoulder_lift_joint" type="hinge" axis="0 1 0" range="-0.5236 1.3963"/>
        <body name="r_upper_arm_roll_link">
          <geom name="uar" type="capsule" fromto="-0.1 0 0 0.1 0 0" size="0.02"/>
          <joint name="r_upper_arm_roll_joint" type="hinge" axis="1 0 0" range="-1.5 1.7" damping="0.1"/>
          <body name="r_upper_arm_link">
            <geom name="ua" type="capsule" fromto="0 0 0 0.4 0 0" size="0.06"/>
            <body name="r_elbow_flex_link" pos="0.4 0 0">
              <geom name="ef" type="capsule" fromto="0 -0.02 0 0 0.02 0" size="0.06"/>
              <joint name="r_elbow_flex_joint" type="hinge" axis="0 1 0" range="-2.3213 0" damping="0.1"/>
              <body name="r_forearm_roll_link">
                <geom name="fr" type="capsule" fromto="-0.1 0 0 0.1 0 0" size="0.02"/>
                <joint name="r_forearm_roll_joint" type="hinge" axis="1 0 0" range="-1.5 1.5" damping="0.1"/>
                <body name="r_forearm_link">
                  <geom name="fa" type="capsule" fromto="0 0 0 0.291 0 0" size="0.05"/>
                  <body name="r_wrist_flex_link" pos="0.321 0 0">
                    <geom name="wf" type="capsule" fromto="0 -0.02 0 0 0.02 0" size="0.01"/>
                    <joint name="r_wrist_flex_joint" type="hinge" axis="0 1 0" range="-1.094 0" damping="0.1"/>
                    <body name="r_wrist_roll_link">
                      <joint name="r_wrist_roll_joint" type="hinge" axis="1 0 0" range="-1.5 1.5" damping="0.1"/>
                      <body name="tips_arm">
                        <geom name="tip_arml" type="sphere" pos="0.1 -0.1 0" size="0.01"/>
                        <geom name="tip_armr" type="sphere" pos="0.1 0.1 0" size="0.01"/>
                      </body>
                      <geom name="palm" type="capsule" fromto="0 -0.1 0 0 0.1 0" size="0.02" contype="1" conaffinity="1"/>
                      <geom name="finger_l" type="capsule" fromto="0 -0.1 0 0.1 -0.1 0" size="0.02" contype="1" conaffinity="1"/>
                      <geom name="finger_r" type="capsule" fromto="0 0.1 0 0.1 0.1 0" size="0.02" contype="1" conaffinity="1"/>
                    </body>
                  </body>
                </body>
              </body>
            </body>
          </body>
        </body>
      </body>
    </body>
    <body name="object" pos="0.45 -0.05 -0.275">
      <geom name="object" type="cylinder" size="0.05 0.05" density="0.01" contype="1" conaffinity="0"/>
      <joint name="obj_slidey" type="slide" axis="0 1 0" range="-10.3213 10.3" damping="0.5"/>
      <joint name="obj_slidex" type="slide" axis="1 0 0" range="-10.3213 10.3" damping="0.5"/>
    </body>
    <body name="goal" pos="0.45 -0.05 -0.323">
      <geom name="goal" type="cylinder" size="0.08 0.001" density="0.00001"/>
      <joint name="goal_slidey" type="slide" axis="0 1 0" range="-10.3213 10.3" damping="0.5"/>
      <joint name="goal_slidex" type="slide" axis="1 0 0" range="-10.3213 10.3" damping="0.5"/>
    </body>
  </worldbody>
  <actuator>
    <motor name="r_shoulder_pan" joint="r_shoulder_pan_joint" ctrllimited="true" ctrlrange="-2 2"/>
    <motor name="r_shoulder_lift" joint="r_shoulder_lift_joint" ctrllimited="true" ctrlrange="-2 2"/>
    <motor name="r_upper_arm_roll" joint="r_upper_arm_roll_joint" ctrllimited="true" ctrlrange="-2 2"/>
    <motor name="r_elbow_flex" joint="r_elbow_flex_joint" ctrllimited="true" ctrlrange="-2 2"/>
    <motor name="r_forearm_roll" joint="r_forearm_roll_joint" ctrllimited="true" ctrlrange="-2 2"/>
    <motor name="r_wrist_flex" joint="r_wrist_flex_joint" ctrllimited="true" ctrlrange="-2 2"/>
    <motor name="r_wrist_roll" joint="r_wrist_roll_joint" ctrllimited="true" ctrlrange="-2 2"/>
  </actuator>
</mujoco>
`;
